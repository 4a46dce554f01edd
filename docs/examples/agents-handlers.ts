import { Effect } from "effect"
import { ResearchTools, SearchError } from "./agents.js"

// The real handlers, provided by a Layer (a test provides a fake Layer instead).
export const ResearchToolsLive = ResearchTools.toLayer({
  search: ({ query }) =>
    Effect.tryPromise({
      try: (signal) => fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal }).then((r) => r.json()),
      catch: (e) => new SearchError({ reason: String(e) })
    }).pipe(Effect.map((hits) => hits as Array<string>)),
  fetch_page: ({ url }) => Effect.promise((signal) => fetch(url, { signal }).then((r) => r.text())),
  weather: ({ city }) => Effect.succeed(`sunny in ${city}`)
})

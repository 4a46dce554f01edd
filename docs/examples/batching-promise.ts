import { MicroBatcher } from "toolfan/promise"

// A fake batched model call (offline): 120 ms per call, whatever the number of texts; stops when aborted.
async function labelMany(texts: ReadonlyArray<string>, signal: AbortSignal): Promise<Array<string | Error>> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 120)
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)))
  })
  // An Error in place of an output rejects that text alone.
  return texts.map((t) => (t === "" ? new Error("empty text") : t.startsWith("Lisbon") ? "relevant" : "irrelevant"))
}

const classify = new MicroBatcher(labelMany, { maxSize: 16, maxWait: 20, timeout: 30_000, retries: 2 })

const texts = ["Lisbon: metro strike called off", "Porto: museum reopens", ""]
const outcomes = await Promise.allSettled(texts.map((t) => classify.submit(t)))
console.log(outcomes.map((o) => (o.status === "fulfilled" ? o.value : o.reason.message)))
// [ 'relevant', 'irrelevant', 'empty text' ]: one model call for the three texts

// Sends what is pending and waits for the calls in flight; later submits reject with BatcherClosed.
await classify.close()

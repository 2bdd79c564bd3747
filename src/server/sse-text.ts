/** The event-stream text a server sends, one complete block per message. */

export interface SseMessage {
  event: string
  /** The id field; null sends none, so the client's last-event-ID buffer is left as it was. */
  id: string | null
  data: string
}

/** An event block; the default type `message` needs no `event:` line. */
export function sseEvent({ event, id, data }: SseMessage): string {
  let text = event === 'message' ? '' : `event: ${event}\n`
  if (id !== null) text += `id: ${id}\n`
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  return `${text}\n`
}

/** A block that only sets the client's last-event-ID buffer (an empty id resets it). */
export function sseId(id: string): string {
  return `id: ${id}\n\n`
}

/** A comment line; `text` is everything after the colon, as in the comment records. */
export function sseComment(text: string): string {
  return `:${text}\n\n`
}

export function sseRetry(ms: number): string {
  // Digits only, as the field allows: past 1e21 a number prints as 1.2e+23, which a client ignores
  // where the recorded one waited that long.
  return `retry: ${BigInt(ms)}\n\n`
}

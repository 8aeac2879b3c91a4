/** A client of the live tail for the tests. */
import { expect } from 'vitest';

/** Reads server-sent events until `count` events came (or the stream ended): their ids and data. */
export async function readEvents(url: string, token: string, count: number, headers: Record<string, string> = {}): Promise<Array<{ id: number; data: any }>> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ id: number; data: any }> = [];
  let buffer = '';
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (\d+)$/m.exec(block);
      const data = /^data: (.*)$/m.exec(block);
      if (id && data) events.push({ id: Number(id[1]), data: JSON.parse(data[1]!) });
    }
  }
  controller.abort();
  return events.slice(0, count);
}

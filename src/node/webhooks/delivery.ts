/** One HTTP POST of a webhook to its receiver, bounded in time and in what is read back. */

/** Bytes of a receiver's answer read (and thrown away): enough to drain a short body. */
export const responseBytesMax = 4 * 1024;

export interface DeliveryOutcome {
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it failed, for the subscription's last error and its dead letters (no secret in it). */
  error?: string;
}

/**
 * POSTs `body` with `headers` to `url`. Success is a 2xx answer within `timeoutMs`; a redirect is
 * a failure (never followed: the URL the operator gave is the only one the node calls). At most
 * `responseBytesMax` of the answer is read; the rest is dropped with the connection.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<DeliveryOutcome> {
  const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal,
    });
    await drain(response);
    if (response.status >= 200 && response.status < 300)
      return { ok: true, status: response.status };
    return {
      ok: false,
      status: response.status,
      error: `the receiver answered ${response.status}`,
    };
  } catch (error) {
    if (signal.aborted && !stop.aborted) {
      return { ok: false, error: `no answer within ${timeoutMs} ms` };
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return { ok: false, error: `request failed: ${reason}` };
  }
}

/** Reads at most `responseBytesMax` of the answer, then cancels the rest. */
async function drain(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  let read = 0;
  try {
    while (read <= responseBytesMax) {
      const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (chunk.done) return;
      read += chunk.value?.byteLength ?? 0;
    }
    await reader.cancel();
  } catch {
    // A receiver that drops the connection after its status line: the status is what counts.
  }
}

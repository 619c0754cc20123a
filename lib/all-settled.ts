// Concurrent steps that must all be over before the caller goes on, even when one fails.

/**
 * Promise.all, except that it waits for every promise to settle before it throws the first
 * failure (in the order given): a step that shares a connection or a folder with the others is
 * never still running once the caller handles the error and cleans up.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const result of settled) if (result.status === "rejected") throw result.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

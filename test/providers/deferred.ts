// Stand-ins for exact interleavings: a promise the test settles by hand, and one turn of the event loop.

/** A promise the test settles by hand. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every settled promise's callbacks run. */
export const tick = () => new Promise((r) => setTimeout(r, 0));

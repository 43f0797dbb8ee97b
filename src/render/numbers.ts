// How Baton writes numbers for people, the same in `ls`, `run` progress, `logs`, MCP answers and the demo.

/** A duration: `850ms`, `4.2s`, `3m07s`, `2h05m`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return minutes < 60
    ? `${minutes}m${String(seconds).padStart(2, "0")}s`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** A count with thousands separated: `12,345`. */
export function count(n: number): string {
  // What toLocaleString("en-US") writes, without it for whole numbers: its first call loads ICU's number
  // formatting, 10 to 20 ms of a command such as `baton ls`.
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString("en-US");
  return n < 0 ? `-${grouped(String(-n))}` : grouped(String(n));
}

const grouped = (digits: string): string => digits.replace(/\B(?=(\d{3})+$)/g, ",");

/** A number of tokens: `12,345 tokens`, `1 token`. */
export function tokens(n: number): string {
  return `${count(n)} token${n === 1 ? "" : "s"}`;
}

/** Orders worker ids as numbers (w2 before w10); anything else after them, by name. */
export function byWorkerId(a: { readonly id: string }, b: { readonly id: string }): number {
  const na = workerNumber(a.id);
  const nb = workerNumber(b.id);
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const workerNumber = (id: string): number | undefined =>
  /^w[0-9]+$/.test(id) ? Number(id.slice(1)) : undefined;

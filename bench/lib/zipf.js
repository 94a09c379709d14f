/**
 * Zipf-distributed indexes: rank k (0-based) is drawn with probability ∝ 1/(k+1)^s — a few tokens are very hot and
 * a long tail is seen rarely, as on a real resource server (many users, a few very active ones).
 */

/** Returns a function drawing indexes in [0, n). */
export function zipfSampler(n, s = 1, random = Math.random) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

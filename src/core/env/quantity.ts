// Kubernetes resource quantities ("500m", "1.5", "128Mi", "2G", "1e3") as exact fractions, and the
// two roundings the downward API uses: Value() and MilliValue(), each rounded up away from zero.

export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SHAPE = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)$/;

/** The quantity, or undefined when the text is not one. */
export function parseQuantity(text: string): Quantity | undefined {
  const m = SHAPE.exec(text.trim());
  if (!m) return undefined;
  const [, sign, whole = '', fraction = '', suffix = ''] = m;
  if (whole === '' && fraction === '') return undefined;
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  let exp10 = 0;
  if (suffix in BINARY) numerator *= 2n ** BigInt(BINARY[suffix]!);
  else if (/^[eE][+-]?\d/.test(suffix)) exp10 = Number(suffix.slice(1));
  else exp10 = DECIMAL[suffix]!;
  if (exp10 >= 0) numerator *= 10n ** BigInt(exp10);
  else denominator *= 10n ** BigInt(-exp10);
  if (sign === '-') numerator = -numerator;
  return { numerator, denominator };
}

function ceilAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

/** The quantity rounded up to a whole number (Quantity.Value in Kubernetes). */
export function wholeValue(q: Quantity): bigint {
  return ceilAwayFromZero(q.numerator, q.denominator);
}

/** The quantity in thousandths, rounded up (Quantity.MilliValue in Kubernetes). */
export function milliValue(q: Quantity): bigint {
  return ceilAwayFromZero(q.numerator * 1000n, q.denominator);
}

/** ceil(a / b) for the positive counts the downward API divides. */
export function ceilDivide(a: bigint, b: bigint): bigint {
  return ceilAwayFromZero(a, b);
}

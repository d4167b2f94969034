// Kubernetes resource quantities (the subset the memory budget needs): a decimal number with an
// optional binary (Ki..Ei), decimal (k..E, m) or exponent (e3) suffix.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** The value of a quantity in base units (bytes, cores), or undefined when it is not a quantity. */
export function parseQuantity(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const match = QUANTITY.exec(input.trim());
  if (!match) return undefined;
  const [, digits, suffix, exponent] = match;
  const value = Number(digits);
  if (exponent !== undefined) return value * 10 ** Number(exponent);
  const unit = suffix ?? '';
  return value * (BINARY[unit] ?? DECIMAL[unit] ?? 1);
}

const MIB = 2 ** 20;

/** A memory quantity in MiB, rounded down (what can be counted on). */
export function floorMiB(bytes: number): number {
  return Math.floor(bytes / MIB);
}

/** A memory quantity in MiB, rounded up (what must be paid for). */
export function ceilMiB(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

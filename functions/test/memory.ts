/**
 * Cloud Functions (2nd gen) reads `available_memory` as a Kubernetes quantity:
 * `256M` is 256·10⁶ bytes (≈244 MiB), `256Mi` is 256·2²⁰.
 */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|Ki|Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const unit: Record<string, number> = {
    '': 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
  };
  return Number(m[1]) * unit[m[2] ?? '']!;
}

/**
 * Simplex values carry round-off (9.9999999 for 10): snap near-integers, so
 * that a proved range reads as it is and a maximum that bounds a numerator
 * later (its denominator's) does not fall just short of a protection level.
 */
export function snap(raw: number): number {
  return Math.abs(raw - Math.round(raw)) < 1e-6 ? Math.round(raw) : raw;
}

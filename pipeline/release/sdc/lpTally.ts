/**
 * The LPs one protection asked the solver for: the attacker's and the
 * simplex iterations they took. Counted on the object a caller hands down,
 * so that two protections in one process (a test, the release's tables and
 * its effects) keep their own figures.
 */
export class LpTally {
  attack = 0;
  simplexIterations = 0;
  /** Simplex iterations times the columns of the LP they ran on: the solver's work, whatever the machine's load. */
  work = 0;

  add(other: LpTally): void {
    this.attack += other.attack;
    this.simplexIterations += other.simplexIterations;
    this.work += other.work;
  }
}

import type { AggregateTableSpec } from '../../schemas/tables.js';
import type { TableLayout } from './sdc/cellSystem.js';

/**
 * What a released value is: published as it is, suppressed (NULL), rounded,
 * or empty (a mean with no contributors: there is no value, so nothing to hide).
 */
export type CellStatus = 'published' | 'suppressed' | 'rounded' | 'empty';

export interface ReleasedColumn {
  readonly name: string;
  readonly kind: 'count' | 'mean';
  readonly description: string;
  readonly values: (number | null)[];
  readonly status: CellStatus[];
}

export interface ReleasedTable {
  readonly spec: AggregateTableSpec;
  readonly layout: TableLayout;
  /** Dimension columns in catalogue order. */
  readonly dimensionColumns: readonly string[];
  /** Per row (layout cell), the dimension values in `dimensionColumns` order. */
  readonly dimensionValues: readonly string[][];
  readonly columns: readonly ReleasedColumn[];
}

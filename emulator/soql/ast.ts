/** A field path as written (`Account.Owner.Name` -> ['Account', 'Owner', 'Name']) and where. */
export interface PathRef {
  readonly parts: readonly string[];
  readonly pos: number;
}

/** Aggregate functions SOQL knows. */
export type AggregateFn = 'COUNT' | 'COUNT_DISTINCT' | 'MIN' | 'MAX' | 'SUM' | 'AVG';

/** One item of the select list. */
export type SelectItem =
  | { readonly kind: 'field'; readonly path: PathRef }
  | {
      readonly kind: 'aggregate';
      readonly fn: AggregateFn;
      /** Null for `COUNT()`. */
      readonly arg: PathRef | null;
      readonly alias: string | null;
      readonly pos: number;
    }
  | { readonly kind: 'fields'; readonly which: 'ALL' | 'STANDARD' | 'CUSTOM'; readonly pos: number }
  | { readonly kind: 'subquery'; readonly query: Query; readonly pos: number }
  | { readonly kind: 'typeof'; readonly pos: number };

/** A literal on the right of a comparison. */
export type Literal =
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'number'; readonly value: number; readonly pos: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly pos: number }
  | { readonly kind: 'null'; readonly pos: number }
  | { readonly kind: 'date'; readonly value: string; readonly pos: number }
  | { readonly kind: 'datetime'; readonly value: string; readonly pos: number }
  | { readonly kind: 'dateLiteral'; readonly name: string; readonly n: number | null; readonly pos: number };

/** Comparison operators. */
export type Operator =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'LIKE'
  | 'IN'
  | 'NOT IN'
  | 'INCLUDES'
  | 'EXCLUDES';

/** A WHERE condition tree. */
export type Condition =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  | {
      readonly kind: 'compare';
      readonly path: PathRef;
      readonly op: Operator;
      readonly value: Literal | readonly Literal[];
    }
  | { readonly kind: 'semijoin'; readonly path: PathRef; readonly negated: boolean; readonly query: Query };

/** One ORDER BY key. */
export interface OrderItem {
  readonly path: PathRef;
  readonly descending: boolean;
  readonly nullsLast: boolean;
}

/** A parsed SOQL statement, before it is checked against the schema. */
export interface Query {
  readonly select: readonly SelectItem[];
  readonly from: { readonly name: string; readonly alias: string | null; readonly pos: number };
  readonly where: Condition | null;
  readonly groupBy: readonly PathRef[];
  readonly orderBy: readonly OrderItem[];
  readonly limit: number | null;
  readonly offset: number | null;
}

/**
 * Counts the history events Step Functions would record for an execution, and measures the
 * largest payload a state received or produced, from the interpreter's event log.
 *
 * Step Functions records per execution: ExecutionStarted and one closing event; per state an
 * Entered and an Exited event; per Task attempt Scheduled, Started and Succeeded or Failed;
 * per inline Map a Started and a Succeeded event plus one event per iteration start and end;
 * per Parallel a Started and a Succeeded event; per Distributed Map MapStateStarted,
 * MapRunStarted, MapRunSucceeded and MapStateSucceeded. A Distributed Map's items run as child
 * executions with histories of their own, so they are counted apart.
 */

/** The Step Functions Standard limits the measurements are checked against. */
export const STEP_FUNCTIONS_LIMITS = { historyEvents: 25_000, payloadBytes: 256 * 1024 } as const;

/** How the runner executes a state, which decides the events Step Functions would record for it. */
export type StateKind = 'task' | 'inline-map' | 'parallel' | 'distributed-map' | 'other';

/** A compact record of something that happened in an execution (no payloads). */
export interface LocalHistoryEvent {
  /** `root` for the execution itself, else the child execution's name. */
  readonly execution: string;
  readonly type: string;
  readonly state?: string;
  /** The inline Map iteration the event belongs to. */
  readonly index?: number;
  readonly error?: string;
  /** On a Distributed Map's `MapRunStarted`: how many child executions it runs. */
  readonly items?: number;
}

/** What one execution would look like in Step Functions' history. */
export interface ExecutionHistoryStats {
  /** History events of this execution (child executions not included). */
  readonly events: number;
  /** The largest state input or output of this execution, in bytes of UTF-8 JSON. */
  readonly largestPayloadBytes: number;
  /** The state whose input or output was the largest. */
  readonly largestPayloadState?: string;
  /** Child executions started by Distributed Maps, at any depth. */
  readonly childExecutions: number;
  /** History events of the largest child execution. */
  readonly largestChildEvents: number;
  /** The largest state payload of any child execution, in bytes. */
  readonly largestChildPayloadBytes: number;
  readonly largestChildPayloadState?: string;
}

interface InterpreterEvent {
  type: string;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  input?: unknown;
  output?: unknown;
  Error?: string;
  items?: number;
}

/** Size of a value as Step Functions measures payloads: UTF-8 bytes of its JSON. */
export function payloadBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Events recorded when a state's work ends, besides its Exited event. */
function closingEvents(kind: StateKind): number {
  switch (kind) {
    case 'task':
      return 3;
    case 'distributed-map':
      return 2;
    case 'inline-map':
    case 'parallel':
      return 1;
    default:
      return 0;
  }
}

/** Accumulates the statistics of one execution from its event log. */
export class HistoryCollector {
  private events = 0;
  private largest = 0;
  private largestState: string | undefined;
  private children = 0;
  private childEvents = 0;
  private childPayload = 0;
  private childPayloadState: string | undefined;
  // States whose error a Catch handled: their Exited event closes no work of its own.
  private readonly caught = new Set<string>();

  constructor(
    private readonly execution: string,
    private readonly kinds: ReadonlyMap<string, StateKind>,
    private readonly onEvent?: (event: LocalHistoryEvent) => void,
  ) {}

  /** Records one event of the interpreter's log. */
  record(event: InterpreterEvent): void {
    const stateName = event.state?.name;
    const kind = stateName === undefined ? 'other' : (this.kinds.get(stateName) ?? 'other');
    switch (event.type) {
      case 'ExecutionStarted':
        this.events += 1;
        this.measure(event.input, '(execution input)');
        break;
      case 'ExecutionSucceeded':
        this.events += 1;
        this.measure(event.output, '(execution output)');
        break;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout':
        this.events += 1;
        break;
      case 'StateEntered':
        this.events +=
          1 + (kind === 'inline-map' || kind === 'parallel' ? 1 : kind === 'distributed-map' ? 2 : 0);
        this.measure(event.state?.input, stateName);
        break;
      case 'StateExited': {
        const key = `${stateName}#${event.index ?? ''}`;
        this.events += 1 + (this.caught.delete(key) ? 0 : closingEvents(kind));
        this.measure(event.state?.output, stateName);
        break;
      }
      case 'StateCaught':
        this.caught.add(`${stateName}#${event.index ?? ''}`);
        break;
      case 'StateFailed':
        // A failed attempt: Scheduled, Started, Failed for a task; the closing event otherwise.
        this.events += closingEvents(kind);
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.events += 1;
        break;
      default:
        // Retried/caught markers and Parallel branch events have no history event of their own.
        break;
    }
    this.onEvent?.({
      execution: this.execution,
      type: event.type,
      ...(stateName !== undefined ? { state: stateName } : {}),
      ...(event.index !== undefined ? { index: event.index } : {}),
      ...(event.Error !== undefined ? { error: event.Error } : {}),
      ...(event.items !== undefined ? { items: event.items } : {}),
    });
  }

  /** Records a payload the event log does not show (a task's raw result, a Map item). */
  measure(value: unknown, stateName: string | undefined): void {
    const bytes = payloadBytes(value);
    if (bytes > this.largest) {
      this.largest = bytes;
      this.largestState = stateName;
    }
  }

  /** Adds a finished child execution's statistics. */
  addChild(child: ExecutionHistoryStats): void {
    this.children += 1 + child.childExecutions;
    this.childEvents = Math.max(this.childEvents, child.events, child.largestChildEvents);
    const [bytes, state] =
      child.largestPayloadBytes >= child.largestChildPayloadBytes
        ? [child.largestPayloadBytes, child.largestPayloadState]
        : [child.largestChildPayloadBytes, child.largestChildPayloadState];
    if (bytes > this.childPayload) {
      this.childPayload = bytes;
      this.childPayloadState = state;
    }
  }

  /** The statistics gathered so far. */
  stats(): ExecutionHistoryStats {
    return {
      events: this.events,
      largestPayloadBytes: this.largest,
      ...(this.largestState !== undefined ? { largestPayloadState: this.largestState } : {}),
      childExecutions: this.children,
      largestChildEvents: this.childEvents,
      largestChildPayloadBytes: this.childPayload,
      ...(this.childPayloadState !== undefined ? { largestChildPayloadState: this.childPayloadState } : {}),
    };
  }
}

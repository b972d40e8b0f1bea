/**
 * The relay's state as Salesforce lets an API client read it: `EventRelayFeedback` (SOQL over
 * REST, API 56.0 and later), `EventRelayConfig` (Tooling API, and SOQL from 56.0) and
 * `PlatformEventChannelMember` (Tooling API), one member per entity selected on the standard
 * `ChangeEvents` channel, and no custom channel (`PlatformEventChannel`, Tooling API). The
 * records are rebuilt from the relay and the selection before each query, in a store of their
 * own, so they never join the org's describe or a backup's export.
 * Field names, types and values follow docs/emulator-cdc.md [RELAY-FEEDBACK], [TOOLING-RELAY],
 * [TOOLING-MEMBER].
 */
import type { ObjectDef } from '../api.ts';
import { IdFactory } from '../ids.ts';
import { picklist, ref, sobject, text, typed } from '../schema.ts';
import { OrgStore, type Table } from '../store.ts';
import type { Stored } from '../values.ts';
import { ALL_CHANGE_EVENTS } from './bus.ts';
import type { EventRelay } from './relay.ts';

/** The API a query came through: objects answer on one or both. */
export type RelayApi = 'data' | 'tooling';

const READ_ONLY = { createable: false, updateable: false };
const FLAGS = {
  createable: false,
  updateable: false,
  deletable: false,
  undeletable: false,
  searchable: false,
  replicateable: false,
  bulkQueryable: false,
} as const;

/** Names of the emulator's one relay (*choice*: a new org has none on Salesforce). */
export const RELAY_DEVELOPER_NAME = 'Emulator_Relay';
const RELAY_LABEL = 'Emulator Relay';
const RELAY_DESTINATION = 'callout:Emulator_AWS';
/** Key prefixes: `0v8` for channel members as Salesforce's example ids show; `0YL` for the relay as the emulator's relay id has; `1ER` for feedback (*choice*). */
const FEEDBACK_PREFIX = '1ER';

const eventRelayConfig = sobject(
  { name: 'EventRelayConfig', keyPrefix: '0YL', isDeleted: true, flags: FLAGS },
  [
    text('DeveloperName', 80, READ_ONLY),
    text('MasterLabel', 80, { ...READ_ONLY, label: 'Label', nameField: true }),
    text('Language', 40, READ_ONLY),
    text('NamespacePrefix', 15, READ_ONLY),
    text('DestinationResourceName', 255, READ_ONLY),
    text('EventChannel', 255, { ...READ_ONLY, label: 'Relayed Event Channel' }),
    text('RelayOption', 4000, { ...READ_ONLY, type: 'textarea', label: 'Event Relay Config Option' }),
    picklist('State', ['RUN', 'PAUSE', 'STOP'], { ...READ_ONLY, label: 'Event Relay Config State' }),
    text('UsageType', 255, READ_ONLY),
  ],
);

const eventRelayFeedback = sobject({ name: 'EventRelayFeedback', keyPrefix: FEEDBACK_PREFIX, flags: FLAGS }, [
  ref('EventRelayConfigId', ['EventRelayConfig'], {
    ...READ_ONLY,
    label: 'Event Relay Config ID',
    relationshipName: 'EventRelayConfig',
  }),
  text('EventRelayNumber', 255, { ...READ_ONLY, nameField: true, label: 'Event Relay Feedback Name' }),
  picklist('Status', ['ERROR', 'DELETED', 'PAUSED', 'RUNNING', 'STOPPED'], {
    ...READ_ONLY,
    label: 'Current Status',
  }),
  text('ErrorCode', 128, READ_ONLY),
  text('ErrorIdentifier', 255, READ_ONLY),
  text('ErrorMessage', 1024, { ...READ_ONLY, type: 'textarea' }),
  typed('ErrorTime', 'datetime', READ_ONLY),
  typed('LastRelayedEventTime', 'datetime', { ...READ_ONLY, label: 'Last Relayed Event Timestamp' }),
  text('RemoteResource', 255, READ_ONLY),
  text('UsageType', 255, READ_ONLY),
]);

const platformEventChannelMember = sobject(
  { name: 'PlatformEventChannelMember', keyPrefix: '0v8', isDeleted: false, flags: FLAGS },
  [
    text('DeveloperName', 80, READ_ONLY),
    text('Language', 40, READ_ONLY),
    text('NamespacePrefix', 15, READ_ONLY),
    text('EventChannel', 255, READ_ONLY),
    text('SelectedEntity', 255, READ_ONLY),
    text('FilterExpression', 4000, { ...READ_ONLY, type: 'textarea' }),
  ],
);

/** Custom channels: the emulator has none, so a query answers no rows (the prefix is the emulator's). */
const platformEventChannel = sobject(
  { name: 'PlatformEventChannel', keyPrefix: '0YM', isDeleted: false, flags: FLAGS },
  [
    text('DeveloperName', 80, READ_ONLY),
    text('MasterLabel', 80, { ...READ_ONLY, label: 'Label', nameField: true }),
    text('Language', 40, READ_ONLY),
    text('NamespacePrefix', 15, READ_ONLY),
    text('ChannelType', 40, READ_ONLY),
  ],
);

/** Which API answers for which object. */
const OBJECTS: ReadonlyArray<readonly [ObjectDef, readonly RelayApi[]]> = [
  [eventRelayConfig, ['data', 'tooling']],
  [eventRelayFeedback, ['data']],
  [platformEventChannelMember, ['tooling']],
  [platformEventChannel, ['tooling']],
];

/** The version that brought EventRelayFeedback and EventRelayConfig to SOQL over REST. */
export const RELAY_OBJECTS_DATA_VERSION = 56;

/** `Account` -> `AccountChangeEvent`, `Employee__c` -> `Employee__ChangeEvent`. */
export function changeEventName(entity: string): string {
  return entity.endsWith('__c') ? `${entity.slice(0, -3)}__ChangeEvent` : `${entity}ChangeEvent`;
}

/** `/data/ChangeEvents` -> `ChangeEvents`; `/data/AccountChangeEvent` -> `AccountChangeEvent`. */
export function channelName(channel: string): string {
  return channel.replace(/^\/data\//, '');
}

/** What the records are built from. */
export interface RelayRecordSource {
  readonly relay: EventRelay;
  selectedEntities(): string[];
  readonly userId: string;
}

/** The relay's records (see module comment). */
export class RelayRecords {
  private readonly stores: Record<RelayApi, OrgStore>;
  private readonly ids = new IdFactory();
  private readonly feedbackId = this.ids.next(FEEDBACK_PREFIX);
  private readonly memberIds = new Map<string, string>();

  constructor(private readonly source: RelayRecordSource) {
    this.stores = {
      data: new OrgStore(OBJECTS.filter(([, apis]) => apis.includes('data')).map(([def]) => def)),
      tooling: new OrgStore(OBJECTS.filter(([, apis]) => apis.includes('tooling')).map(([def]) => def)),
    };
  }

  /** True when `objectName` is one of these records' objects on `api` at `apiVersion`. */
  answers(objectName: string, api: RelayApi, apiVersion: string): boolean {
    if (api === 'data' && Number.parseFloat(apiVersion) < RELAY_OBJECTS_DATA_VERSION) return false;
    return this.stores[api].find(objectName) !== undefined;
  }

  /** The store of `api`, its rows brought up to the relay's current state. */
  store(api: RelayApi): OrgStore {
    const store = this.stores[api];
    const relay = this.source.relay;
    const settings = relay.describe();
    const feedback = relay.feedback();
    const config = store.find('EventRelayConfig');
    if (config) {
      put(config, relay.relayId, {
        DeveloperName: RELAY_DEVELOPER_NAME,
        MasterLabel: RELAY_LABEL,
        Language: 'en_US',
        DestinationResourceName: RELAY_DESTINATION,
        EventChannel: channelName(settings.channel),
        RelayOption: JSON.stringify({ ReplayRecovery: settings.replayRecovery }),
        State: settings.state,
        IsDeleted: false,
        ...this.audit(feedback.createdAt, feedback.modifiedAt),
      });
    }
    const feedbackTable = store.find('EventRelayFeedback');
    if (feedbackTable) {
      put(feedbackTable, this.feedbackId, {
        EventRelayConfigId: relay.relayId,
        EventRelayNumber: 'ERF-0000000001',
        Status: feedback.status,
        ErrorCode: feedback.errorCode,
        ErrorMessage: feedback.errorMessage,
        ErrorTime: feedback.errorTime,
        LastRelayedEventTime: feedback.lastRelayedEventTime,
        RemoteResource: relay.source,
        IsDeleted: false,
        ...this.audit(feedback.createdAt, feedback.modifiedAt),
      });
    }
    const members = store.find('PlatformEventChannelMember');
    if (members) {
      members.rows.clear();
      const channel = channelName(ALL_CHANGE_EVENTS);
      for (const entity of this.source.selectedEntities()) {
        const event = changeEventName(entity);
        let id = this.memberIds.get(event);
        if (!id) {
          id = this.ids.next('0v8');
          this.memberIds.set(event, id);
        }
        put(members, id, {
          DeveloperName: `${channel}_${event}`,
          Language: 'en_US',
          EventChannel: channel,
          SelectedEntity: event,
          ...this.audit(feedback.createdAt, feedback.createdAt),
        });
      }
    }
    return store;
  }

  private audit(created: number, modified: number): Record<string, Stored> {
    return {
      CreatedDate: created,
      CreatedById: this.source.userId,
      LastModifiedDate: modified,
      LastModifiedById: this.source.userId,
      SystemModstamp: modified,
    };
  }
}

/** Stores one row, replacing any row of that id. */
function put(table: Table, id: string, values: Record<string, Stored>): void {
  const row: Stored[] = new Array(table.stored.length).fill(null);
  row[table.idSlot] = id;
  for (const [name, value] of Object.entries(values)) {
    const slot = table.slot(name);
    if (slot >= 0) row[slot] = value;
  }
  table.rows.set(id, row);
}

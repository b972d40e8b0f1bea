import { SalesforceError, type WriteResult } from '../org/api.ts';
import { ApiError } from './errors.ts';

/** An error entry of sObject Collections and Composite results (`statusCode`, not `errorCode`). */
export interface CollectionError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** One result of an sObject Collections call. */
export interface CollectionResult {
  id?: string | null;
  success: boolean;
  errors: CollectionError[];
  created?: boolean;
}

/** Turns anything a write threw into a collection error entry. */
export function collectionError(error: unknown): CollectionError {
  if (error instanceof SalesforceError) {
    return { statusCode: error.errorCode, message: error.message, fields: [...error.fields] };
  }
  if (error instanceof ApiError)
    return { statusCode: error.errorCode, message: error.message, fields: error.fields };
  return {
    statusCode: 'UNKNOWN_EXCEPTION',
    message: error instanceof Error ? error.message : String(error),
    fields: [],
  };
}

/** Converts the org's multi-row write result to the collections shape. */
export function fromWriteResult(result: WriteResult): CollectionResult {
  return {
    id: result.id,
    success: result.success,
    errors: result.errors.map((e) => ({
      statusCode: e.errorCode,
      message: e.message,
      fields: [...e.fields],
    })),
  };
}

/** The error every other row gets when an allOrNone call is rolled back. */
export const ROLLED_BACK: CollectionError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

import { describe, expect, it } from 'vitest';
import { translateJsforceError } from '../../lambdas/adapters/salesforce/errors.ts';

/** An error as jsforce's HttpApi makes one of an answer: named after the code, which it also keeps. */
function jsforceError(errorCode: string, message: string): Error {
  const error = new Error(message) as Error & { errorCode: string };
  error.name = errorCode;
  error.errorCode = errorCode;
  return error;
}

describe('translating jsforce errors', () => {
  it('names a SOAP fault by its code, whatever the status left on the transport', () => {
    expect(translateJsforceError(jsforceError('sf:INVALID_TYPE', 'bad type'), 200, 'x').name).toBe(
      'SalesforceRequestError',
    );
    expect(translateJsforceError(jsforceError('sf:INVALID_SESSION_ID', 'expired'), 500, 'x').name).toBe(
      'SalesforceSessionExpiredError',
    );
    expect(translateJsforceError(jsforceError('soapenv:Server', 'down'), 500, 'x').name).toBe(
      'SalesforceTransientError',
    );
  });

  it('reads a failure with no error code as below HTTP, even after an earlier 4xx answer', () => {
    const failure = translateJsforceError(new TypeError('fetch failed'), 404, 'x');
    expect(failure.name).toBe('SalesforceTransientError');
  });

  it('names a REST answer by its code, or by its status when it had none', () => {
    expect(translateJsforceError(jsforceError('INVALID_FIELD', 'no such field'), 400, 'x').name).toBe(
      'SalesforceQueryError',
    );
    expect(translateJsforceError(jsforceError('ERROR_HTTP_503', '<html>down</html>'), 503, 'x').name).toBe(
      'SalesforceTransientError',
    );
  });
});

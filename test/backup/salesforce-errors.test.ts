import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SalesforceConnection } from '../../lambdas/adapters/salesforce/connection.ts';
import { translateJsforceError } from '../../lambdas/adapters/salesforce/errors.ts';
import { TransportFailure } from '../../lambdas/adapters/salesforce/transport.ts';

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

  it('reads the SOAP faults and bare 5xx answers of a Metadata API call Salesforce could not serve as transient', () => {
    const transient = [
      translateJsforceError(jsforceError('sf:UNKNOWN_EXCEPTION', 'An unexpected error occurred'), 500, 'x'),
      translateJsforceError(jsforceError('sf:SERVER_UNAVAILABLE', 'retry later'), 500, 'x'),
      translateJsforceError(jsforceError('sf:REQUEST_RUNNING_TOO_LONG', 'took too long'), 500, 'x'),
      translateJsforceError(jsforceError('sf:UNABLE_TO_LOCK_ROW', 'locked'), 500, 'x'),
      translateJsforceError(jsforceError('soap:Server', 'down'), 500, 'x'),
      translateJsforceError(jsforceError('ERROR_HTTP_500', '<html>Internal Server Error</html>'), 500, 'x'),
      translateJsforceError(jsforceError('ERROR_HTTP_503', 'Service Unavailable'), 503, 'x'),
      translateJsforceError(jsforceError('ERROR_HTTP_502', ''), 502, 'x'),
    ];
    expect(transient.map((e) => e.name)).toEqual(transient.map(() => 'SalesforceTransientError'));
    expect(translateJsforceError(jsforceError('sf:INVALID_CROSS_REFERENCE_KEY', 'no'), 500, 'x').name).toBe(
      'SalesforceRequestError',
    );
  });

  it('reads a failure of the transport as below HTTP, even after an earlier 4xx answer', () => {
    const failure = translateJsforceError(new TransportFailure('fetch failed'), 404, 'x');
    expect(failure.name).toBe('SalesforceTransientError');
  });

  it('reads any other failure with no error code as permanent, not worth repeating', () => {
    expect(translateJsforceError(new TypeError('fetch failed'), undefined, 'x').name).toBe(
      'SalesforceRequestError',
    );
    expect(translateJsforceError(new Error('Job not found'), 200, 'x').name).toBe('SalesforceRequestError');
  });

  it('names an answer of several errors, which jsforce merges into one, by the first of them', () => {
    const merged = jsforceError('MULTIPLE_API_ERRORS', 'Multiple errors returned.') as Error & {
      data: unknown;
    };
    merged.data = [
      { errorCode: 'INVALID_FIELD', message: 'No such column' },
      { errorCode: 'MALFORMED_QUERY', message: 'unexpected token' },
    ];

    const failure = translateJsforceError(merged, 400, 'x');

    expect(failure.name).toBe('SalesforceQueryError');
    expect(failure).toMatchObject({ errorCode: 'INVALID_FIELD' });
    expect(failure.message).toContain('No such column');
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

describe('reading a JSON answer', () => {
  it('fails as transient, repeated while it lasts, when the answer is not JSON', async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const connection = new SalesforceConnection(
        { kind: 'access-token', instanceUrl: `http://127.0.0.1:${port}`, accessToken: 'token' },
        '62.0',
        async () => undefined,
      );

      const failure = await connection
        .json('/services/data/v62.0/limits', 'Limits', { idempotent: true })
        .catch((error: unknown) => error);

      expect(failure).toMatchObject({ name: 'SalesforceTransientError' });
      expect(String((failure as Error).message)).not.toContain('maintenance');
      expect(served).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('reading an answer under a size limit', () => {
  it('stops reading a Metadata API answer past its limit and fails naming the limit, not holding the rest', async () => {
    const CHUNK = 64 * 1024;
    const LIMIT = 1024 * 1024;
    let written = 0;
    let closed = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      // An answer 32 times the limit, written as fast as it is read.
      const more = () => {
        while (!closed && written < 32 * LIMIT) {
          written += CHUNK;
          if (!res.write(Buffer.alloc(CHUNK, 0x41))) return void res.once('drain', more);
        }
        if (!closed) res.end();
      };
      res.on('close', () => {
        closed = true;
      });
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const connection = new SalesforceConnection(
        { kind: 'access-token', instanceUrl: `http://127.0.0.1:${port}`, accessToken: 'token' },
        '62.0',
        async () => undefined,
      );

      const failure = await connection
        .api(
          'Metadata API checkRetrieveStatus',
          (conn) => conn.metadata.checkRetrieveStatus('09S000000000001'),
          {
            idempotent: true,
            maxAnswerBytes: LIMIT,
          },
        )
        .catch((error: unknown) => error);

      expect(failure).toMatchObject({ name: 'SalesforceAnswerTooLargeError' });
      expect(String((failure as Error).message)).toMatch(
        /Metadata API checkRetrieveStatus: the answer passed 1048576 bytes, the most this call may hold/,
      );
      // Read no further than the limit and what was in flight: the server was cut off.
      expect(written).toBeLessThan(8 * LIMIT);
      expect(connection.apiCalls()).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

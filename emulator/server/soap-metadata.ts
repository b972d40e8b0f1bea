import type { Handler } from './context.ts';
import { ApiError } from './errors.ts';

/** POST /services/Soap/m/XX.X: handed to the Metadata API service, which checks the session. */
export const metadataSoap: Handler = async (ctx, req) => {
  const xml = (await req.body()).toString('utf8');
  if (!ctx.metadata) {
    throw new ApiError(
      500,
      'UNKNOWN_EXCEPTION',
      'The Metadata API is not available: the emulator was started without a metadata service.',
    );
  }
  const answer = await ctx.metadata.handle(xml, {
    checkSession: (sessionId) => sessionId !== undefined && ctx.sessions.find(sessionId) !== undefined,
    apiVersion: req.params[0],
  });
  return { status: answer.status, text: answer.body, headers: { 'content-type': answer.contentType } };
};

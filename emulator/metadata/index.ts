/** Public API of the emulator's Metadata API (SOAP) over sfdx projects. */
export type { LoadProblem, LoadReport } from './component.ts';
export { InvalidProjectError } from './source-loader.ts';
export { extractSessionId } from './soap.ts';
export { RETRIEVE_FILE_LIMIT } from './retrieve.ts';
export type { FileProperties, MetadataUser } from './store.ts';
export {
  type ComponentSummary,
  createMetadataService,
  type MetadataRequestContext,
  type MetadataService,
  type MetadataServiceOptions,
  type MetadataSoapResponse,
} from './service.ts';

export const STUB_SOURCE: string;
export const STUB_OUTPUT: string;
export function findCompiler(env: Record<string, string | undefined>, exists?: (file: string) => boolean): string | undefined;
export function buildStub(options?: { root?: string; env?: Record<string, string | undefined>; compiler?: string }): string | undefined;

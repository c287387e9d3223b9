import { execa } from 'execa';
const a: string[] = [];
export const x = execa('f', a, { detached: true, stdout: 3 });
export const y = execa('f', a, { cleanup: false, detached: true });
export const z = execa('f', a, { stdin: 'ignore', buffer: false, reject: false, extendEnv: false, env: {} , cwd: undefined});

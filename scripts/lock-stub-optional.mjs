// Some registry mirrors answer 404 for platform builds this machine cannot use (e.g. the
// @unrs/resolver-binding-* packages jest depends on). npm then leaves them out of package-lock.json,
// and `npm ci` refuses the lock. This adds a stub entry (version, os, cpu, libc) for each missing
// optional dependency, enough for `npm ci` to see it is not for this platform and skip it.
// Run after `npm install` changes the lock: node scripts/lock-stub-optional.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const OS = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'arm', 'x64', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'wasm32'];

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p));
    if (!os || !cpu) continue;
    const stub = { version, dev: entry.dev || undefined, optional: true, os: [os], cpu: [cpu] };
    if (parts.some((p) => p.startsWith('musl'))) stub.libc = ['musl'];
    else if (os === 'linux' && parts.some((p) => p.startsWith('gnu'))) stub.libc = ['glibc'];
    packages[key] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`stubbed ${added} optional platform packages`);

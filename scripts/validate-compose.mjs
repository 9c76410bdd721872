/**
 * Validates compose files against the Compose Specification's JSON schema, plus the
 * cross-references a schema cannot express; no Docker engine needed.
 *
 *   node scripts/validate-compose.mjs [FILE...]        # default: docker-compose.yml; exit 1 on problems
 *
 * The schema is the current compose-spec schema as shipped (and kept up to date) by the `dclint`
 * package, pinned in package.json; Ajv does the validation (../shared/notes/containers-and-netns.md §4).
 * `docker compose config -q` remains the authoritative check where Compose v2 is installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The compose-spec JSON schema from dclint (its package exports do not include it, so read the file). */
export function composeSchema() {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('dclint/package.json', { paths: [ROOT] });
  const schema = JSON.parse(readFileSync(join(dirname(pkg), 'schemas/compose.schema.json'), 'utf8'));
  // The body is draft-07, but its $schema says https://json-schema.org/draft-07/schema, an id Ajv does not know.
  delete schema.$schema;
  return schema;
}

let validateSchema;

/** Problems found in one parsed compose document (empty: valid). `dir` resolves relative paths. */
export function composeProblems(doc, dir) {
  if (!validateSchema) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
    ajv.addFormat('uri', true);
    validateSchema = ajv.compile(composeSchema());
  }
  const errs = [];
  if (!validateSchema(doc)) {
    for (const e of validateSchema.errors ?? []) {
      const extra = e.params?.additionalProperty ? ` ('${e.params.additionalProperty}')` : '';
      errs.push(`${e.instancePath || '/'} ${e.message}${extra}`);
    }
  }
  if (doc === null || typeof doc !== 'object') return errs;
  const names = (v) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : x.source)) : Object.keys(v ?? {}));
  const services = doc.services ?? {};
  const declared = { networks: names(doc.networks), volumes: names(doc.volumes), secrets: names(doc.secrets), configs: names(doc.configs) };
  for (const [name, s] of Object.entries(services)) {
    if (s === null || typeof s !== 'object') continue;
    for (const d of names(s.depends_on)) if (!(d in services)) errs.push(`/services/${name}/depends_on '${d}' is not a service`);
    for (const n of names(s.networks))
      if (n !== 'default' && !declared.networks.includes(n)) errs.push(`/services/${name}/networks '${n}' is not declared under networks:`);
    for (const kind of ['secrets', 'configs'])
      for (const x of names(s[kind]))
        if (!declared[kind].includes(x)) errs.push(`/services/${name}/${kind} '${x}' is not declared under ${kind}:`);
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0] : undefined) : v.type === 'volume' ? v.source : undefined;
      // A named volume (not a path) must be declared.
      if (source && !/^[./~$]/.test(source) && !declared.volumes.includes(source))
        errs.push(`/services/${name}/volumes '${source}' is not declared under volumes:`);
    }
    if (s.build === undefined && s.image === undefined) errs.push(`/services/${name} has neither build nor image`);
  }
  // Secrets and configs from files: the file must exist (default interpolation applied).
  for (const kind of ['secrets', 'configs']) {
    for (const [name, x] of Object.entries(doc[kind] ?? {})) {
      if (typeof x?.file !== 'string') continue;
      const file = x.file.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, (_, dflt) => dflt);
      if (!file.includes('$') && !existsSync(resolve(dir, file))) errs.push(`/${kind}/${name}/file '${file}' does not exist`);
    }
  }
  return errs;
}

async function main(files) {
  let bad = 0;
  for (const file of files.length ? files : [join(ROOT, 'docker-compose.yml')]) {
    let errs;
    try {
      // merge: YAML anchors and `<<` merge keys, as Compose reads them.
      errs = composeProblems(parse(readFileSync(file, 'utf8'), { merge: true }), dirname(resolve(file)));
    } catch (e) {
      errs = [`cannot read or parse: ${e.message}`];
    }
    if (errs.length) {
      console.error(`${file}: INVALID\n  ${errs.join('\n  ')}`);
      bad++;
    } else {
      console.log(`${file}: valid (compose-spec schema from dclint, cross-references)`);
    }
  }
  return bad ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

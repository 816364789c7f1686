/**
 * `npm run lab -- <command>`: the workshop labs' tools (docs/workshops). Against the platform `npm run up` started.
 *
 *   list                                   the labs
 *   check <n> [--name value ...]           did I get lab n right? (each line says what to do next when not)
 *   solve <n> [service]                    (trainers) the scripted solution of lab n on this platform, then its check
 *   poison                                 lab 3: a record that is not an event on compliance's transfer-events topic
 *   load [--seconds 40] [--clients 4]      lab 4: transfer load with retried keys; break something while it runs
 *   publish <service> <item name>          lab 5: an item request on the topic a generated service consumes
 *
 * Exit code: 0 every check passed, 1 one failed, 2 a usage error.
 */
import { parseFlags, type Finding, type Lab } from './lab-kit';
import { LABS } from './labs';
import { sendPoison } from './lab3-poison-and-dlq';
import { runLabLoad } from './lab4-break-and-hold';
import { publishItemRequest } from './lab5-add-a-service';
import { localTarget } from './target';

const USAGE =
  'usage: npm run lab -- list | check <n> [--name value ...] | solve <n> | poison | load [--seconds 40] [--clients 4] | publish <service> <item name>';

class UsageError extends Error {}

function labOf(raw: string | undefined): Lab {
  const lab = LABS.find((l) => String(l.id) === raw);
  if (!lab) throw new UsageError(`no lab "${raw ?? ''}": one of ${LABS.map((l) => l.id).join(', ')}`);
  return lab;
}

export function printFindings(lab: Lab, findings: Finding[], out: (line: string) => void = console.log): boolean {
  out(`Lab ${lab.id}: ${lab.title}`);
  for (const f of findings) {
    out(`  ${f.ok ? '✓' : '✗'} ${f.what}`);
    if (!f.ok && f.hint) out(`      next: ${f.hint}`);
  }
  const ok = findings.length > 0 && findings.every((f) => f.ok);
  out(
    ok
      ? `  PASSED: lab ${lab.id} done.`
      : `  NOT YET: ${findings.filter((f) => !f.ok).length} of ${findings.length} check(s) to go (docs/workshops/${lab.doc}).`,
  );
  return ok;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'list':
      for (const l of LABS) console.log(`${l.id}  ${l.title}  (docs/workshops/${l.doc})`);
      return 0;
    case 'check': {
      const lab = labOf(rest[0]);
      const target = localTarget();
      return printFindings(lab, await lab.check(target, parseFlags(rest.slice(1)))) ? 0 : 1;
    }
    case 'solve': {
      const lab = labOf(rest[0]);
      const target = { ...localTarget(), ...(rest[1] ? { labService: rest[1] } : {}) };
      const flags = await lab.solve(target, (line) => console.log(`  ${line}`));
      console.log(
        `npm run lab -- check ${lab.id} ${Object.entries(flags)
          .map(([k, v]) => `--${k} ${v}`)
          .join(' ')}`,
      );
      return printFindings(lab, await lab.check(target, flags)) ? 0 : 1;
    }
    case 'poison': {
      const target = localTarget();
      console.log(`sent a record that is not an event envelope to ${await sendPoison(target)}`);
      return 0;
    }
    case 'load': {
      const flags = parseFlags(rest);
      const seconds = Number(flags['seconds'] ?? 40);
      const clients = Number(flags['clients'] ?? 4);
      if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) throw new UsageError('--seconds is 5-600');
      if (!Number.isInteger(clients) || clients < 1 || clients > 16) throw new UsageError('--clients is 1-16');
      const target = localTarget();
      console.log(
        `transfer load for ${seconds} s with ${clients} clients: kill a service or switch a fault on now (docs/workshops/04-break-it-under-load.md)`,
      );
      await runLabLoad(target, seconds, clients, console.log);
      console.log('next: npm run lab -- check 4');
      return 0;
    }
    case 'publish': {
      const [service, item] = rest;
      if (!service || !item) throw new UsageError('usage: npm run lab -- publish <service> <item name>');
      console.log(`sent an item request "${item}" to ${await publishItemRequest(localTarget(), service, item)}`);
      console.log(`next: npm run lab -- check 5 --service ${service} --item "${item}"`);
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`✖ ${err instanceof Error ? err.message : String(err)}`);
      if (!(err instanceof UsageError)) console.error('  is the platform up? npm run up (then npm run infra -- status)');
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}

/**
 * Lab 5: add a service with the generator (tools/plugin) and publish an event to it. The learner generates a service,
 * starts it with the platform, publishes an item request to the topic it consumes (`npm run lab -- publish`), and the
 * checker finds the service in the topology, running, the item in its database and the ItemCreated event its outbox
 * published. The names (topics, database, env) come from the generator's own `serviceNames`, so they cannot drift.
 */
import * as path from 'node:path';
import { buildEnvelope, encodeEnvelope, readTopicSnapshot } from '@tessera/kafka';
import { load } from 'protobufjs';
import { serviceNames } from '../../plugin/src/lib/service-names';
import { eventually, fail, type Finding, type Lab, pass, sendRecord } from './lab-kit';
import { type LabTarget, withDatabase } from './target';

/** The type and bytes of `<Class>ItemRequested { name }`, encoded from the service's own .proto. */
async function itemRequested(root: string, service: string, itemName: string): Promise<{ type: string; data: Uint8Array }> {
  const n = serviceNames(service);
  const proto = await load(path.join(root, n.protoFile));
  const type = `${n.protoPackage}.${n.className}ItemRequested`;
  const message = proto.lookupType(type);
  return { type, data: message.encode(message.create({ name: itemName })).finish() };
}

/** `npm run lab -- publish <service> <item name>`: an item request on the topic the generated service consumes. */
export async function publishItemRequest(target: LabTarget, service: string, itemName: string): Promise<string> {
  const found = target.generatedService(service);
  if (!found) throw new Error(`${service} is not in infra/topology.yaml: npx nx g @tessera/plugin:service ${service}, then npm run up`);
  const { type, data } = await itemRequested(found.root, service, itemName);
  const envelope = buildEnvelope({ type, subject: itemName, data }, 'tessera-labs', {});
  await sendRecord(target.kafka, found.requestsTopic, itemName, Buffer.from(encodeEnvelope(envelope)));
  return found.requestsTopic;
}

export const lab5: Lab = {
  id: 5,
  title: 'Add a service with the generator and publish an event to it',
  doc: '05-add-a-service.md',

  async check(target, args) {
    const service = args['service'];
    const item = args['item'];
    if (!service || !item)
      return [fail('--service and --item are needed', 'npm run lab -- check 5 --service <name> --item "<the name you published>"')];
    const found = target.generatedService(service);
    if (!found)
      return [fail(`${service} is not in infra/topology.yaml`, `generate it: npx nx g @tessera/plugin:service ${service} (step 1)`)];
    const findings: Finding[] = [pass(`${service} is in infra/topology.yaml`)];
    const up = await fetch(`${found.adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    findings.push(
      up
        ? pass(`${service} is running (its admin port ${found.adminUrl} answers)`)
        : fail(`${service} is not running`, `npm run up (it builds, migrates and starts it; step 2), then npm run infra -- status`),
    );
    if (!up) return findings;
    const row = await withDatabase(found.databaseUrl, async (db) => {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM items WHERE name = $1 ORDER BY created_at LIMIT 1', [item]);
      return rows[0];
    }).catch(() => undefined);
    if (!row) {
      findings.push(fail(`no item "${item}" in ${service}'s database`, `npm run lab -- publish ${service} "${item}" (step 3)`));
      return findings;
    }
    findings.push(pass(`${service} handled your request: item ${row.id} "${item}" in its database`));
    let published = false;
    await readTopicSnapshot(target.kafka, found.eventsTopic, 'tessera-admin.lab-', (m) => {
      if (m.value?.includes(Buffer.from(row.id))) published = true;
    });
    findings.push(
      published
        ? pass(`its outbox published the ItemCreated event to ${found.eventsTopic}`)
        : fail(
            `no event about item ${row.id} on ${found.eventsTopic} yet`,
            `wait a second and check again; npm run infra -- logs ${service}`,
          ),
    );
    return findings;
  },

  async solve(target, log) {
    const service = target.labService ?? 'workshop-notes';
    const item = `lab5-${Date.now().toString(36)}`;
    log(`item request "${item}" sent to ${await publishItemRequest(target, service, item)}`);
    await eventually(
      `${service} to handle it`,
      async () => {
        const findings = await lab5.check(target, { service, item });
        return findings.every((f) => f.ok) ? true : undefined;
      },
      60_000,
    );
    return { service, item };
  },
};

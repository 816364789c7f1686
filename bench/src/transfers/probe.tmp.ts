import { openPopulation } from './population';
async function main() {
  const t = Date.now();
  const p = await openPopulation('http://127.0.0.1:8080', { single: 30, batch: 30, hot: 10, profile: 10 }, false, console.log);
  console.log('setup', (Date.now() - t) / 1000, 's', p.wallets.length, p.treasuries);
}
main().catch((e) => { console.error(e); process.exit(1); });

// Nx loads a local plugin's factories with Node's native TypeScript stripping, which cannot resolve extensionless
// relative imports (the repo's style, compiled by tsc and Jest). tsx (a root devDependency) loads the TypeScript
// sources instead, so the plugin runs from source with no build step.
const tsx = require('tsx/cjs/api');

exports.serviceGenerator = tsx.require('./generators/service/generator.ts', __filename).default;
exports.removeServiceGenerator = tsx.require('./generators/remove-service/generator.ts', __filename).default;

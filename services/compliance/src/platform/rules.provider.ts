import { Inject, Injectable } from '@nestjs/common';
import { createLogger } from '@tessera/telemetry';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { loadRuleSet, type RuleSet } from '../rules/rule-set';
import { loadSanctionsFile } from '../sanctions/sanctions-list';
import { SanctionsMatcher } from '../sanctions/sanctions-matcher';

/** The rule set in force and its sanctions matcher, loaded once at boot; an invalid file stops the service. */
@Injectable()
export class RulesProvider {
  readonly rules: RuleSet;
  readonly matcher: SanctionsMatcher;

  constructor(@Inject(COMPLIANCE_CONFIG) config: ComplianceConfig) {
    this.rules = loadRuleSet(config.COMPLIANCE_RULES_FILE);
    this.matcher = new SanctionsMatcher(loadSanctionsFile(this.rules.sanctionsListPath));
    createLogger('RulesProvider').info({ version: this.rules.version, sanctionsAliases: this.matcher.size }, 'rule set loaded');
  }
}

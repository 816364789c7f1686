/** Why a rule or detector flagged something: the stable code, the rule and a description for the reviewer. */
export interface Reason {
  code: string;
  ruleId: string;
  description: string;
}

/** The workshop labs (docs/workshops), in order. */
import type { Lab } from './lab-kit';
import { lab1 } from './lab1-follow-a-transfer';
import { lab2 } from './lab2-compliance-rule';
import { lab3 } from './lab3-poison-and-dlq';
import { lab4 } from './lab4-break-and-hold';
import { lab5 } from './lab5-add-a-service';

export const LABS: readonly Lab[] = [lab1, lab2, lab3, lab4, lab5];

import { Foundation1795253000000 } from './1795253000000-Foundation.js';
import { LeadCapture1795254000000 } from './1795254000000-LeadCapture.js';
import { Funnels1795255000000 } from './1795255000000-Funnels.js';
import { Analytics1795255100000 } from './1795255100000-Analytics.js';
import { StatementErrors1795256000000 } from './1795256000000-StatementErrors.js';
import { FunnelReportScale1795256100000 } from './1795256100000-FunnelReportScale.js';
import { FunnelCountsLock1795256200000 } from './1795256200000-FunnelCountsLock.js';
import { AnalyticsDailyGrain1795256300000 } from './1795256300000-AnalyticsDailyGrain.js';
import { QueueContact1795256400000 } from './1795256400000-QueueContact.js';
import { FunnelStageKeys1795256500000 } from './1795256500000-FunnelStageKeys.js';
import { IdempotentRequests1795256600000 } from './1795256600000-IdempotentRequests.js';

// Explicit, ordered list: no globbing, so the same list runs under tsc output, jest and the CLI.
export const migrations = [
  Foundation1795253000000,
  LeadCapture1795254000000,
  Funnels1795255000000,
  Analytics1795255100000,
  StatementErrors1795256000000,
  FunnelReportScale1795256100000,
  FunnelCountsLock1795256200000,
  AnalyticsDailyGrain1795256300000,
  QueueContact1795256400000,
  FunnelStageKeys1795256500000,
  IdempotentRequests1795256600000,
];

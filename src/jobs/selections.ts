// What each batch job picks (S1): the queries are the store's (store/due-selections.ts), so that the jobs read
// the schema through named functions only.
export { BATCH_JOBS, type BatchJobName, countDue, type SelectionRule, selectDue } from '../store/due-selections.js';

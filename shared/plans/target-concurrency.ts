/** Targets of one case worked on at the same time (a case may name a thousand identities). */
export const TARGET_CONCURRENCY = 16;

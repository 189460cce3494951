/**
 * Distributions (placeholder: the distributions helper owns this file and replaces it).
 */

/** CA's JSON form of a distribution: sparse `[[lo, hi], count]` sorted by lo, ranges inclusive. */
export type CaDistribution = Array<[[number, number], number]>

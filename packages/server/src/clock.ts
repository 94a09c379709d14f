/** A clock in epoch milliseconds; tests inject their own. The one primitive every layer may import. */
export type Clock = () => number;

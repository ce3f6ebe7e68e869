/** The pinned hardfork for node, compiler and simulator: they must agree or gas and opcodes differ. */
export const HARDFORK = 'cancun';

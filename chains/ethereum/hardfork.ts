import { DEFAULT_HARDFORK } from '../../common/config.ts';

/** The pinned hardfork for node, compiler and simulator: they must agree or gas and opcodes differ. */
export const HARDFORK = DEFAULT_HARDFORK;

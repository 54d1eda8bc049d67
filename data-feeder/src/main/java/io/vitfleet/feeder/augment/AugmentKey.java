package io.vitfleet.feeder.augment;

/**
 * The key of a sample's random augmentation: a mix of (seed, epoch, sample index). A sample gets a fresh crop and flip
 * each epoch, the same one whenever its step is replayed, and the same one whichever feeder, thread or replica
 * decodes it.
 */
public final class AugmentKey {
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
  private static final long SALT = 0x6a09_e667_f3bc_c909L;

  private AugmentKey() {
  }

  /** The key of sample {@code index} in epoch {@code epoch} of a job with augmentation seed {@code seed}. */
  public static long of(long seed, long epoch, long index) {
    long h = mix64(seed ^ SALT);
    h = mix64(h + (epoch + 1) * GOLDEN_GAMMA);
    return mix64(h ^ (index * GOLDEN_GAMMA + 0x1234_5678_9abc_def1L));
  }

  /** The SplitMix64 finaliser: a bijection with full avalanche. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

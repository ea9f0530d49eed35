package io.meshwire.netaddr;

import java.util.random.RandomGenerator;

/**
 * {@code PinnedRandom} makes {@link Backoff}'s jitter predictable in tests: {@link #HIGHEST} always
 * draws the top of the range (a delay is then exactly its ceiling plus the hint), {@link #LOWEST}
 * always zero (exactly the hint). Shared through this module's test-jar.
 */
public final class PinnedRandom {

  private PinnedRandom() {}

  public static final RandomGenerator HIGHEST = new RandomGenerator() {
    @Override
    public long nextLong() {
      return Long.MAX_VALUE;
    }

    @Override
    public long nextLong(long bound) {
      return bound - 1;
    }
  };

  public static final RandomGenerator LOWEST = new RandomGenerator() {
    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public long nextLong(long bound) {
      return 0;
    }
  };
}

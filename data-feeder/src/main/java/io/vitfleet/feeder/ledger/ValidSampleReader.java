package io.vitfleet.feeder.ledger;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleSource;
import io.vitfleet.feeder.source.SampleStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The corrupt-sample rule: what the feeder delivers at a stream position whose scheduled sample is invalid. The job
 * never crashes on data; it delivers a valid sample chosen by a pure function, counts and reports the bad one.
 *
 * <p><b>A sample is invalid</b> if its shard is missing or cannot be opened; its record lies past where the file is
 * truncated or its framing breaks; the record's length header or data fails its CRC (or the header disagrees with the
 * index); the data is not a {@code tf.train.Example} or lacks {@code image/encoded} or {@code label}; the label is
 * outside [0, classes); or the image does not decode, as judged by the injected {@link ImageValidator} (raw pixels:
 * their length differs from the source's image shape).
 *
 * <p><b>Substitution.</b> At global stream position P (epoch e = P / N, position q = P mod N) the epoch order
 * schedules sample s. If s is invalid, candidates c_1, c_2, ... are drawn: {@code c_k = mix64(mix64(seed ^ SALT) ^
 * mix64(P) + k * GAMMA) mod N} (unsigned), a pure function of (seed, epoch, position, k), and the first valid one is
 * delivered. Every outcome depends only on (data set, seed, epoch, position), so a replay delivers identical bytes on
 * any host. Why pseudo-random draws rather than "the next position of the order": with an order that has read
 * locality, a missing shard's samples sit together, and walking the order would read through all of them for each
 * one (quadratic); a uniform draw finds a valid sample in 1 / (valid fraction) reads on average, whatever the order.
 * The price is the same as any substitution: the substitute appears twice in the epoch.
 *
 * <p><b>Reporting.</b> Every invalid sample met (the scheduled one, draw 0, and any invalid candidate, draw k) is
 * recorded in the {@link SampleLedger} with step, position, file, offset, reason and the substitute delivered; the
 * ledger counts substitutions per step.
 *
 * <p><b>Limit.</b> After {@link #DEFAULT_MAX_DRAWS} invalid candidates in a row (with half the data set valid, a
 * chance of 2^-1024) the data set is not corrupt but gone; the read throws a {@link DatasetException} saying so. That
 * is the only exception, and it never happens on a data set that is mostly readable.
 *
 * <p>Thread-safe if the source and validator are (both are required to be).
 */
public final class ValidSampleReader {
  /** Candidates drawn before giving up: enough that only an (almost) entirely unreadable data set exhausts them. */
  public static final int DEFAULT_MAX_DRAWS = 1024;
  private static final long SUBSTITUTE_SALT = 0x5b57_1747_e5a1_0001L;
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  private final SampleSource source;
  private final ImageValidator validator;
  private final long seed;
  private final SampleLedger ledger;
  private final int maxDraws;
  private final long rawBytes;

  /** A reader with {@link #DEFAULT_MAX_DRAWS}. */
  public ValidSampleReader(SampleSource source, ImageValidator validator, long seed, SampleLedger ledger) {
    this(source, validator, seed, ledger, DEFAULT_MAX_DRAWS);
  }

  /**
   * @param seed the job's data-order seed (the epoch order's)
   * @param maxDraws substitute candidates to try before declaring the data set unreadable, at least 1
   */
  public ValidSampleReader(SampleSource source, ImageValidator validator, long seed, SampleLedger ledger,
      int maxDraws) {
    if (maxDraws < 1) {
      throw new IllegalArgumentException("substitute draws must be at least 1, not " + maxDraws);
    }
    this.source = Objects.requireNonNull(source, "source");
    this.validator = Objects.requireNonNull(validator, "validator");
    this.seed = seed;
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    this.maxDraws = maxDraws;
    ImageShape shape = source.imageShape();
    this.rawBytes = shape == null ? -1 : shape.pixels();
  }

  public SampleSource source() {
    return source;
  }

  public SampleLedger ledger() {
    return ledger;
  }

  /**
   * The valid sample delivered at global stream position {@code position} of step {@code step}, whose scheduled
   * sample (from the epoch order) is {@code scheduled}: that sample if valid, else its substitute under the rule.
   *
   * @param position the global stream position, >= 0 (epoch = position / N)
   * @param scheduled the epoch order's sample at that position, in [0, N)
   * @return a valid read; its {@link SampleRead#index()} is the sample delivered (== scheduled unless substituted)
   * @throws DatasetException if the scheduled sample and all {@code maxDraws} candidates are invalid
   */
  public SampleRead read(long step, long position, long scheduled) {
    if (position < 0) {
      throw new IllegalArgumentException("stream position must be non-negative, not " + position);
    }
    SampleRead first = checked(source.read(scheduled));
    if (first.isValid()) {
      return first;
    }
    long n = source.size();
    List<SampleRead> invalid = new ArrayList<>();
    SampleRead candidate = first;
    int draw = 0;
    while (!candidate.isValid()) {
      invalid.add(candidate);
      if (draw == maxDraws) {
        throw new DatasetException(null, "no valid sample for step " + step + " position " + position + ": sample "
            + scheduled + " and " + maxDraws + " substitute candidates are all invalid (the first: " + first.status()
            + " in " + first.where() + ": " + first.detail() + "); " + source.describe() + " is (almost) entirely"
            + " unreadable: check it with 'vitfleet dataset inspect --verify'");
      }
      draw++;
      candidate = checked(source.read(candidate(seed, position, draw, n)));
    }
    for (int k = 0; k < invalid.size(); k++) {
      SampleRead bad = invalid.get(k);
      ledger.record(new LedgerEntry(step, position, k, bad.index(), bad.file(), bad.offset(), bad.status().name(),
          bad.detail(), candidate.index()));
    }
    return candidate;
  }

  /**
   * {@code read} with the image checks applied: a source's valid read whose image does not decode (or whose raw
   * pixels have the wrong length) becomes UNDECODABLE_IMAGE.
   */
  public SampleRead checked(SampleRead read) {
    if (!read.isValid()) {
      return read;
    }
    String problem;
    if (read.format() == ImageFormat.RAW) {
      problem = rawBytes >= 0 && read.image().length != rawBytes ? "raw image of " + read.image().length
          + " bytes, the source's shape " + source.imageShape() + " needs " + rawBytes : null;
    } else {
      problem = validator.problem(read.format(), read.image());
    }
    return problem == null ? read : read.asInvalid(SampleStatus.UNDECODABLE_IMAGE, problem);
  }

  /**
   * The k-th substitute candidate for global stream position {@code position} of a data set of {@code size}
   * samples: uniform over [0, size), a pure function of (seed, position, k). The epoch is part of the position.
   *
   * @param draw k >= 1
   */
  public static long candidate(long seed, long position, int draw, long size) {
    long key = mix64(seed ^ SUBSTITUTE_SALT);
    return Long.remainderUnsigned(mix64(key ^ mix64(position) + draw * GOLDEN_GAMMA), size);
  }

  /** The SplitMix64 finaliser: a bijection on longs with full avalanche. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

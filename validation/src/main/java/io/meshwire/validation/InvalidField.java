package io.meshwire.validation;

import java.io.Serial;

/**
 * {@code InvalidField}: a wire message broke one of its rules. {@link #field()} is the path of the
 * offending field ({@code record.pod_cidrs[1]}), {@link #problem()} what is wrong, quoting the
 * input through {@link io.meshwire.netaddr.Quote} (bounded). An expected outcome: no stack trace.
 */
public final class InvalidField extends Exception {

  @Serial private static final long serialVersionUID = 1L;

  private final String field;
  private final String problem;

  public InvalidField(String field, String problem) {
    super(field + ": " + problem, null, false, false);
    this.field = field;
    this.problem = problem;
  }

  public String field() {
    return field;
  }

  public String problem() {
    return problem;
  }
}

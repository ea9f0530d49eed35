package io.meshwire.reflection.imports;

/**
 * {@code Observed} is an object as read from the API: its owned content, the resourceVersion to
 * write against, whether meshwire manages it (carries the managed-by label), and for a derived
 * Service the cluster IP the API server assigned ({@code ""} otherwise).
 */
record Observed(ImportedObject content, String resourceVersion, boolean managed, String clusterIp) {

  public Observed(ImportedObject content, String resourceVersion, boolean managed) {
    this(content, resourceVersion, managed, "");
  }

  public ObjectKey key() {
    return content.key();
  }
}

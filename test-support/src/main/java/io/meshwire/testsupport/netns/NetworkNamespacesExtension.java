package io.meshwire.testsupport.netns;

import io.meshwire.netlab.netns.NetworkNamespaces;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code NetworkNamespacesExtension} is the namespace lab ({@link NetworkNamespaces}, module
 * netlab) as a JUnit 5 extension: register it on a {@code static} field with
 * {@code @RegisterExtension}; it checks {@link Requirements} before all tests (skipping them, or
 * failing under {@code MESHWIRE_E2E_REQUIRED=1}), builds the lab, and removes it after all tests.
 */
public final class NetworkNamespacesExtension extends NetworkNamespaces implements BeforeAllCallback, AfterAllCallback {

  /** An unstarted lab; JUnit starts it before the class's tests. */
  public NetworkNamespacesExtension() {}

  @Override
  public void beforeAll(ExtensionContext context) {
    Requirements.check().enforce();
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }
}

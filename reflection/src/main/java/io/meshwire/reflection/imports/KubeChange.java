package io.meshwire.reflection.imports;

/** {@code KubeChange} is one step of bringing the imported objects to the desired state. */
sealed interface KubeChange {

  ObjectKey key();

  /** The object does not exist: create it. */
  record Create(ImportedObject object) implements KubeChange {
    @Override
    public ObjectKey key() {
      return object.key();
    }
  }

  /** The object exists with other content: replace ours, conditional on {@code resourceVersion}. */
  record Update(ImportedObject object, String resourceVersion) implements KubeChange {
    @Override
    public ObjectKey key() {
      return object.key();
    }
  }

  /** A managed object that nothing desires any more: delete it, conditional on {@code resourceVersion}. */
  record Delete(ObjectKey key, String resourceVersion) implements KubeChange {}

  /** Something we did not create sits where we would write: leave it alone and report it. */
  record Refused(ObjectKey key, String reason) implements KubeChange {}
}

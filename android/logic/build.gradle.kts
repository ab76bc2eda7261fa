// Plain Kotlin (no android.* import): view-models, the onboarding state machine, the BLE
// session logic and the notification decisions. Its tests run on the JVM against the real
// library (JNA + the host liblichen_ffi.so); ../test.sh does the same with kotlinc, which
// is how they are run where there is no Gradle.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin { jvmToolchain(17) }

sourceSets {
    // The generated bindings, compiled here only to compile against: at run time on the
    // phone they come from :lib (the AAR), so they are not packed into this jar.
    create("uniffi") {
        kotlin.srcDir("../lib/src/main/kotlin")
    }
}

dependencies {
    "uniffiImplementation"(libs.jna)
    "uniffiImplementation"(libs.kotlinx.coroutines.core)
    compileOnly(sourceSets["uniffi"].output)
    compileOnly(libs.jna)
    implementation(libs.kotlinx.coroutines.core)

    testImplementation(sourceSets["uniffi"].output)
    testImplementation(libs.jna)
    testImplementation(libs.junit)
}

tasks.test {
    // The host build of the library: `cargo build -p lichen-ffi` at the repository root.
    systemProperty("jna.library.path", rootProject.file("../target/debug").absolutePath)
}

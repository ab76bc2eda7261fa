// The AAR: the Kotlin that uniffi generates from bindings/ (package org.lichen) and
// liblichen_ffi.so for each ABI, both written by ../build-libs.sh (not committed).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "org.lichen"
    compileSdk = 35
    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")
}

dependencies {
    // JNA with its own Android .so files: the AAR, not the jar.
    api("${libs.jna.get()}@aar")
    api(libs.kotlinx.coroutines.core)
}

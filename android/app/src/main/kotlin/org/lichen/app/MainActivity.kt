package org.lichen.app

import android.annotation.SuppressLint
import android.bluetooth.BluetoothAdapter
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.provider.Settings
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.launch
import org.lichen.app.logic.Onboarding
import org.lichen.app.logic.OnboardingStep
import org.lichen.app.logic.Permission
import org.lichen.app.ui.AppScreens
import org.lichen.app.ui.OnboardingScreen

/** The one activity: onboarding until it is done, then the app's screens. */
class MainActivity : ComponentActivity() {
    private lateinit var onboarding: Onboarding
    private var asking: Permission? = null

    private val askPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        val p = asking ?: return@registerForActivityResult
        lifecycleScope.launch { onboarding.permissionResult(p, granted) }
    }
    private val systemScreen = registerForActivityResult(ActivityResultContracts.StartActivityForResult()) {
        lifecycleScope.launch { onboarding.returned() }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        onboarding = Onboarding(AndroidPlatform(this), ServiceRoots(this), Prefs(this).phoneToPhone)
        lifecycleScope.launch { onboarding.start() }
        val openChat = intent.getStringExtra(EXTRA_CHAT)
        setContent {
            MaterialTheme {
                val step by onboarding.step.collectAsState()
                when (val s = step) {
                    is OnboardingStep.Done -> {
                        LichenService.adopt(this, s.root)
                        AppScreens(s.root, openChat)
                    }
                    else -> OnboardingScreen(
                        step = s,
                        onboarding = onboarding,
                        ask = { p -> asking = p; askPermission.launch(p.manifestName) },
                        turnOnBluetooth = { systemScreen.launch(Intent(BluetoothAdapter.ACTION_REQUEST_ENABLE)) },
                        batterySettings = { requestBatteryExemption() },
                        appSettings = {
                            systemScreen.launch(Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.parse("package:$packageName")))
                        },
                    )
                }
            }
        }
    }

    @SuppressLint("BatteryLife") // a messenger that must keep a radio link: the exemption's intended use
    private fun requestBatteryExemption() {
        systemScreen.launch(Intent(Settings.ACTION_REQUEST_IGNORE_BATTERY_OPTIMIZATIONS, Uri.parse("package:$packageName")))
    }

    companion object {
        const val EXTRA_CHAT = "chat"
    }
}

/** Onboarding's roots: the one the service holds if it runs, else the data directory's. */
class ServiceRoots(private val activity: ComponentActivity) : org.lichen.app.logic.RootOpener {
    private val inner = LichenService.roots(activity)
    override suspend fun openExisting() = LichenService.root.value ?: inner.openExisting()
    override suspend fun create() = inner.create()
    override suspend fun restore(backup: String) = inner.restore(backup)
}

package org.lichen.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import org.lichen.app.logic.Onboarding
import org.lichen.app.logic.OnboardingStep
import org.lichen.app.logic.Permission

/** Draws the onboarding step the logic is in; every button calls back into it. */
@Composable
fun OnboardingScreen(
    step: OnboardingStep,
    onboarding: Onboarding,
    ask: (Permission) -> Unit,
    turnOnBluetooth: () -> Unit,
    batterySettings: () -> Unit,
    appSettings: () -> Unit,
) {
    val scope = rememberCoroutineScope()
    Column(Modifier.fillMaxSize().padding(24.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
        when (step) {
            OnboardingStep.Checking -> Text("Opening…")
            is OnboardingStep.ChooseIdentity -> {
                Text("Lichen", style = MaterialTheme.typography.headlineMedium)
                Text("Chat with your group over LoRa and Bluetooth, without a network.")
                step.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
                Button(onClick = { scope.launch { onboarding.create() } }) { Text("Create a new identity") }
                var backup by remember { mutableStateOf("") }
                OutlinedTextField(backup, { backup = it }, label = { Text("Paste a backup to restore") })
                TextButton(onClick = { onboarding.chooseRestore(backup) }, enabled = backup.isNotBlank()) { Text("Restore") }
            }
            is OnboardingStep.ForkWarning -> {
                Text("Before you restore", style = MaterialTheme.typography.titleLarge)
                Text(step.text)
                Button(onClick = { scope.launch { onboarding.acknowledgeForkAndRestore() } }) { Text("The old phone is gone: restore") }
                TextButton(onClick = { onboarding.back() }) { Text("Back") }
            }
            is OnboardingStep.DisplayName -> {
                var name by remember { mutableStateOf(step.suggestion) }
                Text("Your name", style = MaterialTheme.typography.titleLarge)
                Text("Shown to the people you invite.")
                OutlinedTextField(name, { name = it }, isError = step.error != null, supportingText = { step.error?.let { Text(it) } })
                Button(onClick = { scope.launch { onboarding.setName(name) } }) { Text("Continue") }
            }
            is OnboardingStep.ExplainPermission -> {
                Text("Permission", style = MaterialTheme.typography.titleLarge)
                Text("Lichen asks for this ${step.permission.why}.")
                if (step.denied) {
                    Text("It was refused. You can allow it in the app's settings, or go on without it.")
                    Button(onClick = appSettings) { Text("Open settings") }
                    TextButton(onClick = { scope.launch { onboarding.skip() } }) { Text("Not now") }
                } else {
                    Button(onClick = { ask(step.permission) }) { Text("Continue") }
                }
            }
            OnboardingStep.TurnOnBluetooth -> {
                Text("Bluetooth is off", style = MaterialTheme.typography.titleLarge)
                Text("The dongle and nearby phones are reached over Bluetooth.")
                Button(onClick = turnOnBluetooth) { Text("Turn on Bluetooth") }
                TextButton(onClick = { scope.launch { onboarding.skip() } }) { Text("Not now") }
            }
            OnboardingStep.BatteryOptimisation -> {
                Text("Stay connected", style = MaterialTheme.typography.titleLarge)
                Text("Android stops apps in the background to save battery. Allow Lichen to run so the dongle link comes back by itself and messages arrive while the screen is off.")
                Button(onClick = batterySettings) { Text("Allow") }
                TextButton(onClick = { scope.launch { onboarding.skip() } }) { Text("Not now") }
            }
            is OnboardingStep.Done -> Text("Ready")
        }
    }
}

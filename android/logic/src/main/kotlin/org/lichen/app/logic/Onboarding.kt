package org.lichen.app.logic

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import org.lichen.Lichen

/** A runtime permission the app asks for, with why, in words shown before the OS dialog. */
enum class Permission(val manifestName: String, val why: String) {
    BLUETOOTH_SCAN(
        "android.permission.BLUETOOTH_SCAN",
        "to find your LoRa dongle and phones nearby (not your location: the app declares " +
            "it never uses scans for location)",
    ),
    BLUETOOTH_CONNECT(
        "android.permission.BLUETOOTH_CONNECT",
        "to connect to the paired dongle and keep it connected",
    ),
    BLUETOOTH_ADVERTISE(
        "android.permission.BLUETOOTH_ADVERTISE",
        "so phones nearby can find this one and pass messages without a dongle",
    ),
    LOCATION(
        "android.permission.ACCESS_FINE_LOCATION",
        "Android before version 12 only lets apps scan for Bluetooth devices with the " +
            "location permission; the app does not read your location",
    ),
    NOTIFICATIONS(
        "android.permission.POST_NOTIFICATIONS",
        "to tell you when a message arrives and when the dongle is gone for long",
    ),
}

/** Which runtime permissions an API level needs (install-time ones are in the manifest). */
object PermissionPlan {
    const val S = 31
    const val TIRAMISU = 33

    /** The Bluetooth permissions, asked in the permissions step. */
    fun bluetooth(api: Int, phoneToPhone: Boolean): List<Permission> = if (api >= S) {
        listOfNotNull(
            Permission.BLUETOOTH_SCAN,
            Permission.BLUETOOTH_CONNECT,
            Permission.BLUETOOTH_ADVERTISE.takeIf { phoneToPhone },
        )
    } else {
        // BLUETOOTH and BLUETOOTH_ADMIN are granted at install; scanning needs location.
        listOf(Permission.LOCATION)
    }

    /** POST_NOTIFICATIONS exists from Android 13; before, notifications need no request. */
    fun notifications(api: Int): List<Permission> =
        if (api >= TIRAMISU) listOf(Permission.NOTIFICATIONS) else emptyList()
}

/** What onboarding asks the platform (the Android layer implements it; tests fake it). */
interface OnboardingPlatform {
    val apiLevel: Int
    fun granted(p: Permission): Boolean
    fun bluetoothOn(): Boolean
    fun ignoringBatteryOptimisations(): Boolean
}

/** How the app gets its one root: the real library (LichenRoots) or nothing else. */
interface RootOpener {
    /** The root kept in the data directory, or null if there is none yet. */
    suspend fun openExisting(): Lichen?
    suspend fun create(): Lichen
    suspend fun restore(backup: String): Lichen
}

sealed interface OnboardingStep {
    /** Opening what is there. */
    data object Checking : OnboardingStep
    data class ChooseIdentity(val error: String? = null) : OnboardingStep

    /** Restoring makes this phone write the same feed as the old one: both must not post. */
    data class ForkWarning(val backup: String) : OnboardingStep {
        val text = "Restore only if the old phone is gone or wiped. If both phones post with " +
            "this identity, its feed forks and peers stop accepting either of them."
    }
    data class DisplayName(val suggestion: String, val error: String? = null) : OnboardingStep

    /** Shown before the OS dialog; [denied] once it was refused (then: open settings). */
    data class ExplainPermission(val permission: Permission, val denied: Boolean = false) : OnboardingStep
    data object TurnOnBluetooth : OnboardingStep
    data object BatteryOptimisation : OnboardingStep
    data class Done(val root: Lichen) : OnboardingStep
}

/**
 * Onboarding as a state machine: identity (create, or restore with the fork warning),
 * display name, each permission explained before it is asked, Bluetooth on, battery
 * optimisation, notifications, then the chat list. Steps already satisfied are skipped;
 * the person may skip the optional ones (the app then says what does not work).
 */
class Onboarding(
    private val platform: OnboardingPlatform,
    private val opener: RootOpener,
    private val phoneToPhone: Boolean = true,
) {
    private val _step = MutableStateFlow<OnboardingStep>(OnboardingStep.Checking)
    val step: StateFlow<OnboardingStep> = _step.asStateFlow()
    private var root: Lichen? = null
    private val asked = mutableSetOf<Permission>()
    private var bluetoothAsked = false
    private var batteryAsked = false

    suspend fun start() {
        val existing = try {
            opener.openExisting()
        } catch (e: Exception) {
            _step.value = OnboardingStep.ChooseIdentity(e.forPerson())
            return
        }
        if (existing == null) {
            _step.value = OnboardingStep.ChooseIdentity()
        } else {
            root = existing
            advance()
        }
    }

    suspend fun create() {
        try {
            root = opener.create()
            advance()
        } catch (e: Exception) {
            _step.value = OnboardingStep.ChooseIdentity(e.forPerson("creating failed"))
        }
    }

    fun chooseRestore(backup: String) {
        _step.value = OnboardingStep.ForkWarning(backup.trim())
    }

    /** The person read the warning and restores. */
    suspend fun acknowledgeForkAndRestore() {
        val s = _step.value as? OnboardingStep.ForkWarning ?: return
        try {
            root = opener.restore(s.backup)
            advance()
        } catch (e: Exception) {
            _step.value = OnboardingStep.ChooseIdentity(e.forPerson("restoring failed"))
        }
    }

    fun back() {
        if (_step.value is OnboardingStep.ForkWarning) _step.value = OnboardingStep.ChooseIdentity()
    }

    suspend fun setName(name: String) {
        val r = root ?: return
        val n = name.trim()
        if (n.isEmpty() || n.length > 40) {
            _step.value = OnboardingStep.DisplayName(n, "a name of 1 to 40 characters")
            return
        }
        try {
            r.settings().setMyName(n)
            advance()
        } catch (e: Exception) {
            _step.value = OnboardingStep.DisplayName(n, e.forPerson())
        }
    }

    /** The OS dialog for [p] answered. */
    suspend fun permissionResult(p: Permission, granted: Boolean) {
        asked += p
        if (!granted) {
            _step.value = OnboardingStep.ExplainPermission(p, denied = true)
            return
        }
        advance()
    }

    /** Skip the current optional step (a denied permission, Bluetooth, battery). */
    suspend fun skip() {
        when (val s = _step.value) {
            is OnboardingStep.ExplainPermission -> asked += s.permission
            OnboardingStep.TurnOnBluetooth -> bluetoothAsked = true
            OnboardingStep.BatteryOptimisation -> batteryAsked = true
            else -> return
        }
        advance()
    }

    /** After the person came back from a system screen (Bluetooth, battery settings). */
    suspend fun returned() {
        when (_step.value) {
            OnboardingStep.TurnOnBluetooth -> bluetoothAsked = true
            OnboardingStep.BatteryOptimisation -> batteryAsked = true
            else -> {}
        }
        advance()
    }

    private fun advance() {
        val r = root ?: return
        val name = try {
            r.settings().get().displayName
        } catch (e: Exception) {
            null
        }
        if (name.isNullOrBlank()) {
            _step.value = OnboardingStep.DisplayName("")
            return
        }
        val api = platform.apiLevel
        for (p in PermissionPlan.bluetooth(api, phoneToPhone)) {
            if (!platform.granted(p) && p !in asked) {
                _step.value = OnboardingStep.ExplainPermission(p)
                return
            }
        }
        if (!bluetoothAsked && !platform.bluetoothOn()) {
            _step.value = OnboardingStep.TurnOnBluetooth
            return
        }
        if (!batteryAsked && !platform.ignoringBatteryOptimisations()) {
            _step.value = OnboardingStep.BatteryOptimisation
            return
        }
        for (p in PermissionPlan.notifications(api)) {
            if (!platform.granted(p) && p !in asked) {
                _step.value = OnboardingStep.ExplainPermission(p)
                return
            }
        }
        _step.value = OnboardingStep.Done(r)
    }
}

package org.lichen.app.logic

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import org.lichen.Dongle
import org.lichen.DongleException
import org.lichen.FoundDongle
import org.lichen.PairingStatus

/** What the dongle screen offers for a pairing error: one button, one sentence. */
enum class PairingAction(val button: String, val hint: String) {
    TURN_ON_BLUETOOTH("Turn on Bluetooth", "Bluetooth is off."),
    GRANT_PERMISSION("Allow Bluetooth", "The app may not use Bluetooth yet: allow it in the dialog or in the app's settings."),
    NO_BLUETOOTH("Use phone-to-phone or a relay", "This phone has no usable Bluetooth LE for a dongle."),
    MOVE_CLOSER("Try again", "The dongle did not answer: switch it on, bring it closer, or close other apps using it."),
    NOT_A_DONGLE("Choose another device", "That device is not a tinySSB dongle (other firmware)."),
    UPDATE_FIRMWARE("Choose another device", "The link cannot carry a whole tinySSB packet; update the dongle's firmware."),
    RETRY("Try again", "Connecting took too long."),
    PAIR("Scan for dongles", "No dongle is paired yet."),
    EXPORT_LOGS("Try again", "Something unexpected failed; export the logs from Settings to report it."),
    ;

    companion object {
        /** Every variant of the bindings' error has its action (the `when` is exhaustive). */
        fun of(e: DongleException): PairingAction = when (e) {
            is DongleException.BluetoothOff -> TURN_ON_BLUETOOTH
            is DongleException.PermissionMissing -> GRANT_PERMISSION
            is DongleException.BluetoothAbsent -> NO_BLUETOOTH
            is DongleException.Unsupported -> NO_BLUETOOTH
            is DongleException.DeviceGone -> MOVE_CLOSER
            is DongleException.ServiceMissing -> NOT_A_DONGLE
            is DongleException.MtuTooSmall -> UPDATE_FIRMWARE
            is DongleException.Timeout -> RETRY
            is DongleException.NotPaired -> PAIR
            is DongleException.Other -> EXPORT_LOGS
        }
    }
}

/**
 * The error's sentence for the person (uniffi's `message` is "reason=…", so the field is
 * read instead).
 */
fun DongleException.why(): String = when (this) {
    is DongleException.BluetoothOff -> reason
    is DongleException.PermissionMissing -> reason
    is DongleException.BluetoothAbsent -> reason
    is DongleException.Unsupported -> reason
    is DongleException.DeviceGone -> reason
    is DongleException.ServiceMissing -> reason
    is DongleException.MtuTooSmall -> reason
    is DongleException.Timeout -> reason
    is DongleException.NotPaired -> reason
    is DongleException.Other -> reason
}

/** The dongle screen. */
sealed interface DongleScreen {
    data object Idle : DongleScreen
    data object Scanning : DongleScreen
    data class ScanList(val found: List<FoundRow>) : DongleScreen
    data class Pairing(val name: String) : DongleScreen
    data class Connected(
        val name: String,
        val mtu: Int?,
        val rssi: Int?,
        val sync: String,
        val full: Boolean,
    ) : DongleScreen

    /** The link just went down: shown at once, before the supervisor's next attempt. */
    data class LinkLost(val name: String, val reason: String?) : DongleScreen

    /**
     * The supervisor is trying again: the attempt number, the last error and, while it waits
     * between attempts, when the next one is due (Unix ms; null while connecting).
     */
    data class Reconnecting(
        val name: String,
        val attempt: Int,
        val lastError: String?,
        val nextAttemptUnixMs: Long? = null,
    ) : DongleScreen
    data class Failed(val message: String, val action: PairingAction) : DongleScreen
}

data class FoundRow(val id: String, val name: String, val rssi: Int?, val paired: Boolean) {
    /** Signal in words: bars for people, dBm beside them. */
    val signal: String
        get() = when {
            rssi == null -> "signal unknown"
            rssi >= -60 -> "strong ($rssi dBm)"
            rssi >= -80 -> "fair ($rssi dBm)"
            else -> "weak ($rssi dBm)"
        }

    companion object {
        fun of(f: FoundDongle) = FoundRow(f.id, f.name, f.rssi?.toInt(), f.paired)
    }
}

/**
 * Scan → pair → connected, and then the link's life (lost, reconnecting, connected again)
 * from the node's status, polled by the screen while it is shown (refresh()).
 */
class DongleViewModel(private val dongle: Dongle) {
    private val _screen = MutableStateFlow<DongleScreen>(DongleScreen.Idle)
    val screen: StateFlow<DongleScreen> = _screen.asStateFlow()
    private var attempt = 0
    private var lastPhase: String? = null

    suspend fun scan(timeoutMs: Int = 3000): DongleScreen {
        _screen.value = DongleScreen.Scanning
        return set(
            try {
                DongleScreen.ScanList(dongle.scan(timeoutMs.toUInt()).map(FoundRow::of))
            } catch (e: DongleException) {
                failed(e)
            },
        )
    }

    suspend fun pair(row: FoundRow): DongleScreen {
        _screen.value = DongleScreen.Pairing(row.name)
        return try {
            dongle.pair(row.id)
            attempt = 0
            lastPhase = null
            refresh()
        } catch (e: DongleException) {
            set(failed(e))
        }
    }

    suspend fun unpair(): DongleScreen = try {
        dongle.unpair()
        set(DongleScreen.Idle)
    } catch (e: DongleException) {
        set(failed(e))
    }

    /** Reads the status and moves the screen on. */
    suspend fun refresh(): DongleScreen {
        val st = try {
            dongle.status()
        } catch (e: DongleException.NotPaired) {
            return set(DongleScreen.Idle)
        } catch (e: DongleException) {
            return set(failed(e))
        }
        return set(next(_screen.value, st))
    }

    private fun next(now: DongleScreen, st: PairingStatus): DongleScreen {
        val name = st.paired.name
        val link = st.link ?: return DongleScreen.Pairing(name)
        val phase = link.phase
        if (link.connected) {
            attempt = 0
            lastPhase = phase
            return DongleScreen.Connected(
                name = name,
                mtu = link.mtu?.toInt(),
                rssi = link.rssi?.toInt(),
                sync = link.sync,
                full = link.dongleFull,
            )
        }
        val out = when (now) {
            is DongleScreen.Connected -> DongleScreen.LinkLost(name, link.lastError)
            is DongleScreen.LinkLost, is DongleScreen.Reconnecting -> {
                if (phase == "connecting" && lastPhase != "connecting") attempt++
                DongleScreen.Reconnecting(
                    name,
                    attempt.coerceAtLeast(1),
                    link.lastError,
                    link.nextAttemptUnixMs?.toLong(),
                )
            }
            else -> DongleScreen.Pairing(name)
        }
        lastPhase = phase
        return out
    }

    private fun failed(e: DongleException) = DongleScreen.Failed(e.why(), PairingAction.of(e))

    private fun set(s: DongleScreen): DongleScreen {
        _screen.value = s
        return s
    }
}

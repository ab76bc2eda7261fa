package org.lichen.app

import android.app.Notification
import android.app.PendingIntent
import android.bluetooth.BluetoothAdapter
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.ServiceInfo
import android.net.wifi.WifiManager
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.core.app.ServiceCompat
import androidx.core.content.ContextCompat
import androidx.lifecycle.LifecycleService
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.lichen.Lichen
import org.lichen.app.logic.CentralAdapter
import org.lichen.app.logic.DongleWatch
import org.lichen.app.logic.EventPump
import org.lichen.app.logic.LichenRoots
import org.lichen.app.logic.NotificationPolicy
import org.lichen.app.logic.PeripheralSessions

/**
 * The foreground service (connectedDevice) that owns the one root of the app's only
 * process: the store has one owner. The activity binds to nothing; it reads [root] here.
 * Started by the activity after onboarding, and on boot when enabled.
 */
class LichenService : LifecycleService() {
    private var multicastLock: WifiManager.MulticastLock? = null
    private var gattServer: GattServer? = null
    private var pump: Job? = null
    private val watch = DongleWatch()

    private val bluetoothState = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            when (intent.getIntExtra(BluetoothAdapter.EXTRA_STATE, BluetoothAdapter.ERROR)) {
                BluetoothAdapter.STATE_TURNING_OFF, BluetoothAdapter.STATE_OFF -> {
                    gattServer?.stop("Bluetooth off")
                    gattServer = null
                }
                BluetoothAdapter.STATE_ON -> startPhoneToPhone()
            }
        }
    }

    override fun onCreate() {
        super.onCreate()
        ServiceCompat.startForeground(
            this, NOTIFY_SERVICE, ongoing(),
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE else 0,
        )
        ContextCompat.registerReceiver(
            this, bluetoothState, IntentFilter(BluetoothAdapter.ACTION_STATE_CHANGED),
            ContextCompat.RECEIVER_NOT_EXPORTED,
        )
        lifecycleScope.launch { open() }
    }

    private suspend fun open() {
        // Onboarding may have created the root already (it hands it over); else open it.
        val r = _root.value ?: roots(this).openExisting() ?: run { stopSelf(); return }
        _root.value = r
        val notifier = AndroidNotifier(this)
        pump = lifecycleScope.launch { EventPump(r, notifier, NotificationPolicy { Foreground.chatOnScreen }).run() }
        lifecycleScope.launch {
            while (true) {
                val st = try { r.dongle().status() } catch (e: Exception) { null }
                for (a in watch.observe(st, System.currentTimeMillis())) notifier.show(a)
                delay(30_000)
            }
        }
        Prefs(this).let { p ->
            if (p.multicast) setMulticast(true)
        }
        startPhoneToPhone()
    }

    private fun startPhoneToPhone() {
        val r = _root.value ?: return
        if (!Prefs(this).phoneToPhone || gattServer != null) return
        gattServer = GattServer(this) { port -> PeripheralSessions(r.links(), port) }.also { it.start() }
    }

    /** A multicast lock while Wi-Fi multicast is on: without it Android drops multicast. */
    fun setMulticast(on: Boolean) {
        Prefs(this).multicast = on
        val wifi = applicationContext.getSystemService(WifiManager::class.java) ?: return
        if (on && multicastLock == null) {
            multicastLock = wifi.createMulticastLock("lichen").apply { setReferenceCounted(false); acquire() }
        } else if (!on) {
            multicastLock?.release()
            multicastLock = null
        }
    }

    private fun ongoing(): Notification {
        val open = PendingIntent.getActivity(
            this, 0, Intent(this, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE,
        )
        return NotificationCompat.Builder(this, LichenApp.CH_SERVICE)
            .setSmallIcon(R.drawable.ic_stat)
            .setContentTitle(getString(R.string.service_running))
            .setOngoing(true)
            .setSilent(true)
            .setPriority(NotificationCompat.PRIORITY_MIN)
            .setForegroundServiceBehavior(NotificationCompat.FOREGROUND_SERVICE_DEFERRED)
            .setContentIntent(open)
            .build()
    }

    override fun onDestroy() {
        unregisterReceiver(bluetoothState)
        gattServer?.stop("service stopped")
        multicastLock?.release()
        multicastLock = null
        pump?.cancel()
        _root.value?.let { r -> runBlocking { r.shutdown() } }
        _root.value = null
        super.onDestroy()
    }

    companion object {
        const val NOTIFY_SERVICE = 1
        private val _root = MutableStateFlow<Lichen?>(null)

        /** The process's one root, once the service opened it. */
        val root: StateFlow<Lichen?> = _root

        /** The root over the phone's Bluetooth, in the app's private files. */
        fun roots(context: Context) = LichenRoots(context.filesDir.resolve("lichen").absolutePath) {
            it.bleCentral(CentralAdapter(AndroidGattPort(context.applicationContext)))
        }

        /** Onboarding made the root: the service owns it from now on. */
        fun adopt(context: Context, root: Lichen) {
            _root.value = root
            start(context)
        }

        fun start(context: Context) {
            ContextCompat.startForegroundService(context, Intent(context, LichenService::class.java))
        }
    }
}

/** Which chat is on screen (its messages are not notified). Set by the conversation screen. */
object Foreground {
    @Volatile var chatOnScreen: String? = null
}

/** The few switches the service reads before the root is open. */
class Prefs(context: Context) {
    private val p = context.getSharedPreferences("lichen", Context.MODE_PRIVATE)
    var startOnBoot: Boolean
        get() = p.getBoolean("boot", true)
        set(v) = p.edit().putBoolean("boot", v).apply()
    var phoneToPhone: Boolean
        get() = p.getBoolean("p2p", true)
        set(v) = p.edit().putBoolean("p2p", v).apply()
    var multicast: Boolean
        get() = p.getBoolean("multicast", false)
        set(v) = p.edit().putBoolean("multicast", v).apply()
}
